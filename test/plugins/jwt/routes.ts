/** Route-file text for jwt tests: one route per entry, each with its own jwt config (JSON is valid YAML). */
export function jwtRoutes(entries: Record<string, Record<string, unknown>>, extraPlugins: Record<string, string> = {}): string {
  return Object.entries(entries)
    .map(
      ([id, cfg]) =>
        `  - id: ${id}\n    match: { path: /${id} }\n    upstream: { service: svc }\n    plugins:\n      - jwt: ${JSON.stringify(cfg)}\n${extraPlugins[id] ?? ''}`,
    )
    .join('');
}
