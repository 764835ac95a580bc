/** A list of IPv4/IPv6 addresses and CIDR ranges (node:net BlockList). IPv4-mapped IPv6 addresses count as IPv4. */
import net from 'node:net';

export interface AddressList {
  readonly size: number;
  has(address: string): boolean;
}

const MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

export function parseAddressList(entries: readonly string[], field: string): AddressList {
  const list = new net.BlockList();
  for (const entry of entries) {
    const [addr, bits, extra] = entry.split('/');
    const family = net.isIP(addr ?? '');
    if (family === 0 || extra !== undefined) throw new Error(`${field}: ${entry} is not an IPv4 or IPv6 address or CIDR`);
    const max = family === 4 ? 32 : 128;
    const prefix = bits === undefined ? max : Number(bits);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) throw new Error(`${field}: ${entry} has a prefix length outside 0-${max}`);
    list.addSubnet(addr!, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return {
    size: entries.length,
    has(address) {
      const mapped = MAPPED.exec(address);
      const a = mapped ? mapped[1]! : address;
      const family = net.isIP(a);
      if (family === 0) return false;
      return list.check(a, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}
