/**
 * `ip-filter`: refuses clients by address with 403 FORBIDDEN. The address is `request.ip`,
 * which honours server.trustProxy: with trustProxy off it is the socket peer, so a spoofed
 * X-Forwarded-For changes nothing. `deny` wins over `allow`; a non-empty `allow` admits only its ranges.
 */
import { sendProblem } from '../../errors.js';
import { definePlugin } from '../define.js';
import { parseAddressList } from './address-list.js';
import { IpFilterConfig } from './schema.js';

export default definePlugin({
  name: 'ip-filter',
  description: 'allows or denies client addresses by CIDR (403 FORBIDDEN)',
  config: IpFilterConfig,
  create(config) {
    const allow = parseAddressList(config.allow, 'allow');
    const deny = parseAddressList(config.deny, 'deny');
    if (allow.size === 0 && deny.size === 0) return null;
    return {
      async onRequest(request, reply) {
        const ip = request.ip;
        if (deny.has(ip) || (allow.size > 0 && !allow.has(ip))) {
          return sendProblem(request, reply, 'FORBIDDEN', `client address ${ip} is not allowed on this route`);
        }
      },
    };
  },
});
