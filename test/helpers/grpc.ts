/** Real gRPC servers on 127.0.0.1:0 for tests, built with grpc-js and protobufjs from a .proto file. */
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';

export const PROTOS = path.resolve(import.meta.dirname, '../fixtures/protos');
const SHIPPED = path.resolve(import.meta.dirname, '../../protos');
const PROTOBUFJS = path.resolve(import.meta.dirname, '../../node_modules/protobufjs');

export type Plain = Record<string, unknown>;

/** A protobufjs root for a fixture proto, google/api imports resolved from the shipped copies. */
export async function loadFixture(file: string): Promise<protobuf.Root> {
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => {
    if (target.startsWith('google/api/')) return path.join(SHIPPED, target);
    if (target === 'google/protobuf/descriptor.proto') return path.join(PROTOBUFJS, target);
    return protobuf.util.path.resolve(origin, target);
  };
  await root.load(path.join(PROTOS, file), { keepCase: false });
  root.resolveAll();
  return root;
}

const TO_PLAIN: protobuf.IConversionOptions = { longs: String, enums: String };

function codec(type: protobuf.Type) {
  return {
    serialize: (v: Plain) => Buffer.from(type.encode(type.fromObject(v)).finish()),
    deserialize: (b: Buffer) => type.toObject(type.decode(b), TO_PLAIN) as Plain,
  };
}

/** grpc-js service definition for `serviceName` with plain-object messages. */
export function definitionOf(root: protobuf.Root, serviceName: string): grpc.ServiceDefinition {
  const service = root.lookupService(serviceName);
  const def: Record<string, grpc.MethodDefinition<Plain, Plain>> = {};
  for (const m of service.methodsArray) {
    m.resolve();
    const req = codec(m.resolvedRequestType!);
    const res = codec(m.resolvedResponseType!);
    def[m.name] = {
      path: `/${serviceName}/${m.name}`,
      requestStream: m.requestStream === true,
      responseStream: m.responseStream === true,
      requestSerialize: req.serialize,
      requestDeserialize: req.deserialize,
      responseSerialize: res.serialize,
      responseDeserialize: res.deserialize,
      originalName: m.name,
    };
  }
  return def;
}

export interface GrpcOrigin {
  url: string;
  port: number;
  server: grpc.Server;
  close(): Promise<void>;
}

/** A gRPC server with `impl` for `serviceName`; plaintext unless `credentials` says otherwise. */
export async function startGrpcServer(
  root: protobuf.Root,
  serviceName: string,
  impl: grpc.UntypedServiceImplementation,
  credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure(),
): Promise<GrpcOrigin> {
  const server = new grpc.Server();
  server.addService(definitionOf(root, serviceName), impl);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    url: `${credentials._isSecure() ? 'grpcs' : 'grpc'}://127.0.0.1:${port}`,
    port,
    server,
    close: async () => server.forceShutdown(),
  };
}
