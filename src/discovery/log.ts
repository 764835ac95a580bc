/** The small logger shape providers write to (a pino / Fastify logger fits); silent by default. */
export interface DiscoveryLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export const silentDiscoveryLogger: DiscoveryLogger = { info: () => undefined, warn: () => undefined };
