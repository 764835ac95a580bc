/** gRPC status codes to HTTP statuses and the gateway's GRPC_* error codes, as grpc-gateway maps them, and back. */
import type { ErrorCode } from '../../errors.js';
import { GrpcCode, grpcCodeName } from './status-codes.js';

/** A gRPC status, by its name, -> the error table's code (its HTTP status is in ERRORS). */
const CODES: Readonly<Record<string, ErrorCode>> = {
  CANCELLED: 'GRPC_CANCELLED',
  UNKNOWN: 'GRPC_UNKNOWN',
  INVALID_ARGUMENT: 'GRPC_INVALID_ARGUMENT',
  DEADLINE_EXCEEDED: 'GRPC_DEADLINE_EXCEEDED',
  NOT_FOUND: 'GRPC_NOT_FOUND',
  ALREADY_EXISTS: 'GRPC_ALREADY_EXISTS',
  PERMISSION_DENIED: 'GRPC_PERMISSION_DENIED',
  RESOURCE_EXHAUSTED: 'GRPC_RESOURCE_EXHAUSTED',
  FAILED_PRECONDITION: 'GRPC_FAILED_PRECONDITION',
  ABORTED: 'GRPC_ABORTED',
  OUT_OF_RANGE: 'GRPC_OUT_OF_RANGE',
  UNIMPLEMENTED: 'GRPC_UNIMPLEMENTED',
  INTERNAL: 'GRPC_INTERNAL',
  UNAVAILABLE: 'GRPC_UNAVAILABLE',
  DATA_LOSS: 'GRPC_DATA_LOSS',
  UNAUTHENTICATED: 'GRPC_UNAUTHENTICATED',
};

/** The error code for a non-OK gRPC status; anything unrecognised is UNKNOWN. */
export function errorCodeOf(code: number): ErrorCode {
  return CODES[statusName(code)] ?? 'GRPC_UNKNOWN';
}

/** The status name: NOT_FOUND for 5. */
export const statusName = grpcCodeName;

/** An HTTP status from a REST service -> the gRPC status a gRPC client gets (the reverse of grpc-gateway's table). */
export function grpcStatusOfHttp(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return GrpcCode.INVALID_ARGUMENT;
    case 401:
      return GrpcCode.UNAUTHENTICATED;
    case 403:
      return GrpcCode.PERMISSION_DENIED;
    case 404:
      return GrpcCode.NOT_FOUND;
    case 409:
      return GrpcCode.ABORTED;
    case 412:
      return GrpcCode.FAILED_PRECONDITION;
    case 429:
      return GrpcCode.RESOURCE_EXHAUSTED;
    case 499:
      return GrpcCode.CANCELLED;
    case 501:
      return GrpcCode.UNIMPLEMENTED;
    case 502:
    case 503:
      return GrpcCode.UNAVAILABLE;
    case 504:
      return GrpcCode.DEADLINE_EXCEEDED;
    default:
      if (httpStatus >= 200 && httpStatus < 300) return GrpcCode.OK;
      if (httpStatus >= 400 && httpStatus < 500) return GrpcCode.FAILED_PRECONDITION;
      return httpStatus >= 500 ? GrpcCode.INTERNAL : GrpcCode.UNKNOWN;
  }
}
