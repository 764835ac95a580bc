/**
 * The aggregate rows of the benchmark: a plain proxied route to one origin beside a
 * three-backend aggregate over three origins (two parallel, one waiting for the first).
 * The harness starts the origins, writes `files` into a config dir, starts the gateway
 * from it and drives each row's path.
 */

export interface BenchRow {
  readonly name: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface AggregateScenario {
  /** Config files, relative to the gateway's config dir. */
  readonly files: Readonly<Record<string, string>>;
  readonly rows: readonly BenchRow[];
}

/** `origins`: base URLs of three origins that answer small JSON objects with an `accountId`. */
export function aggregateScenario(origins: readonly [string, string, string]): AggregateScenario {
  const [users, orders, payments] = origins;
  const svc = (name: string, url: string) => `  ${name}:\n    discovery: { static: [${JSON.stringify(url)}] }\n`;
  return {
    files: {
      'gatehouse.yaml': 'admin: { enabled: false }\nlogging: { level: warn, accessLog: false }\n',
      'routes.d/bench-aggregate.yaml':
        `services:\n${svc('users', users)}${svc('orders', orders)}${svc('payments', payments)}routes:\n` +
        `  - id: proxy\n    match: { path: /proxy/:id }\n    upstream: { service: users }\n` +
        `  - id: parallel\n    match: { path: /parallel/:id }\n    aggregate:\n      backends:\n` +
        `        - { service: users, path: "/users/{params.id}", as: user }\n` +
        `        - { service: orders, path: "/orders?user={params.id}", as: orders }\n` +
        `        - { service: payments, path: "/payments/{params.id}", as: payments }\n` +
        `  - id: chained\n    match: { path: /chained/:id }\n    aggregate:\n      backends:\n` +
        `        - { service: users, path: "/users/{params.id}", as: user }\n` +
        `        - { service: orders, path: "/orders?user={params.id}", as: orders, select: [id] }\n` +
        `        - { service: payments, path: "/payments/{user.accountId}", as: payments }\n`,
    },
    rows: [
      { name: 'proxy (1 backend)', path: '/proxy/7', headers: {} },
      { name: 'aggregate (3 parallel)', path: '/parallel/7', headers: {} },
      { name: 'aggregate (2 + 1 chained)', path: '/chained/7', headers: {} },
    ],
  };
}
