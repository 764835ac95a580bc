import { jsonService, runIfMain } from './service.js';

const users: Record<string, { id: string; name: string; accountId: string }> = {
  '1': { id: '1', name: 'Ada Lovelace', accountId: 'acc-1' },
  '2': { id: '2', name: 'Alan Turing', accountId: 'acc-2' },
};

export const usersService = () =>
  jsonService('users', (req, url) => {
    if (url.pathname === '/users') return { body: Object.values(users) };
    const m = /^\/users\/([^/]+)$/.exec(url.pathname);
    if (m) return users[m[1]!] ? { body: { ...users[m[1]!], seenUserHeader: req.headers['x-user-id'] ?? null } } : { status: 404, body: { error: 'no such user' } };
    return undefined;
  });

runIfMain(import.meta, usersService(), 3101, 'users');
