import { jsonService, runIfMain } from './service.js';

const orders = [
  { id: 'o-1', user: '1', total: 42.5, status: 'shipped' },
  { id: 'o-2', user: '1', total: 9.99, status: 'open' },
  { id: 'o-3', user: '2', total: 120, status: 'open' },
];

export const ordersService = () =>
  jsonService('orders', (req, url) => {
    if (url.pathname === '/orders' && req.method === 'GET') {
      const user = url.searchParams.get('user');
      return { body: user ? orders.filter((o) => o.user === user) : orders };
    }
    if (url.pathname === '/orders' && req.method === 'POST') return { status: 201, body: { id: `o-${orders.length + 1}`, status: 'open', tenant: req.headers['x-tenant-id'] ?? null } };
    const m = /^\/orders\/([^/]+)$/.exec(url.pathname);
    if (m) {
      const o = orders.find((x) => x.id === m[1]);
      return o ? { body: o } : { status: 404, body: { error: 'no such order' } };
    }
    return undefined;
  });

runIfMain(import.meta, ordersService(), 3102, 'orders');
