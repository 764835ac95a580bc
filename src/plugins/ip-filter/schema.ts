import { Type, type StaticDecode } from '@sinclair/typebox';

const Cidr = Type.String({ pattern: '^[0-9A-Fa-f:.]+(/\\d{1,3})?$', errorMessage: 'must be an IPv4 or IPv6 address or CIDR, such as 10.0.0.0/8 or 2001:db8::/32' });

export const IpFilterConfig = Type.Object(
  {
    /** When not empty, only these addresses pass. */
    allow: Type.Array(Cidr, { default: [] }),
    /** These addresses are refused, even when `allow` lists them. */
    deny: Type.Array(Cidr, { default: [] }),
  },
  { additionalProperties: false },
);
export type IpFilterConfig = StaticDecode<typeof IpFilterConfig>;
