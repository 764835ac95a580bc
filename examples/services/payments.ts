import { jsonService, runIfMain } from './service.js';

export const paymentsService = () =>
  jsonService('payments', (_req, url) => {
    const m = /^\/payments\/([^/]+)$/.exec(url.pathname);
    if (m) return { body: { account: m[1], balance: m[1] === 'acc-1' ? 1200 : 35, currency: 'EUR' } };
    return undefined;
  });

runIfMain(import.meta, paymentsService(), 3103, 'payments');
