/**
 * grpc-js and protobufjs, loaded when first needed. A gateway with no gRPC in its config never
 * loads them: it starts ~5 MB of RSS lighter (in a bare process the two add ~17 MB, Node's
 * http2 and the rest they bring included). REST -> gRPC routes need protobufjs only (their
 * calls go out on the channel in channel.ts); grpc-js is the gRPC ingress server's
 * (`grpcServer`). The gRPC modules import their types only, and reach the values through these.
 */
import { lazyModule } from '../../lazy-module.js';

export const grpcJs = lazyModule<typeof import('@grpc/grpc-js')>('@grpc/grpc-js');
export const protobufJs = lazyModule<typeof import('protobufjs')>('protobufjs');
