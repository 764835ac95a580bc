/** Loads .proto files with protobufjs; google/api/*.proto come from the copies Gatehouse ships. */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type protobuf from 'protobufjs';
import { protobufJs } from './deps.js';

/** protos/ at the package root, from src/targets/grpc or dist/targets/grpc. */
const SHIPPED = path.resolve(import.meta.dirname, '../../../protos');
const PROTOBUFJS = path.dirname(createRequire(import.meta.url).resolve('protobufjs/package.json'));

export interface LoadedProto {
  readonly root: protobuf.Root;
  readonly file: string;
}

/** Where an import resolves: next to the importing file, then from the proto's own dir, then the shipped copies. */
function resolver(baseDir: string): (origin: string, target: string) => string {
  return (origin, target) => {
    if (path.isAbsolute(target)) return target;
    const candidates = [
      origin ? path.resolve(path.dirname(origin), target) : path.resolve(baseDir, target),
      path.resolve(baseDir, target),
      path.join(SHIPPED, target),
      path.join(PROTOBUFJS, target),
    ];
    return candidates.find((c) => existsSync(c)) ?? candidates[0]!;
  };
}

/** Parses `file` and everything it imports; throws with protobufjs's message when a file is missing or malformed. */
export async function loadProto(file: string): Promise<LoadedProto> {
  const { Root } = protobufJs();
  const root = new Root();
  root.resolvePath = resolver(path.dirname(file));
  await root.load(file, { keepCase: false });
  root.resolveAll();
  return { root, file };
}

/** Every method of every service in the root, as "pkg.Service/Method". */
export function methodNames(root: protobuf.Root): string[] {
  const { Namespace, Service, Type } = protobufJs();
  const names: string[] = [];
  const walk = (ns: protobuf.NamespaceBase): void => {
    for (const child of ns.nestedArray) {
      if (child instanceof Service) for (const m of child.methodsArray) names.push(`${child.fullName.slice(1)}/${m.name}`);
      if (child instanceof Namespace || child instanceof Type || child instanceof Service) walk(child);
    }
  };
  walk(root);
  return names;
}

/** The method named "pkg.Service/Method", or undefined. */
export function findMethod(root: protobuf.Root, name: string): protobuf.Method | undefined {
  const slash = name.indexOf('/');
  if (slash <= 0) return undefined;
  try {
    const service = root.lookupService(name.slice(0, slash));
    const method = service.methods[name.slice(slash + 1)];
    if (method) method.resolve();
    return method;
  } catch {
    return undefined;
  }
}

/** The gRPC path of a method: "/pkg.Service/Method". */
export function grpcPath(method: protobuf.Method): string {
  return `/${method.parent!.fullName.slice(1)}/${method.name}`;
}
