/** gRPC status codes to HTTP statuses and the gateway's GRPC_* error codes, as grpc-gateway maps them, and back. */
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { ErrorCode } from '../../errors.js';

/** grpc-js's numeric status -> the error table's code (its HTTP status is in ERRORS). */
const CODES: Readonly<Record<number, ErrorCode>> = {
  [GrpcStatus.CANCELLED]: 'GRPC_CANCELLED',
  [GrpcStatus.UNKNOWN]: 'GRPC_UNKNOWN',
  [GrpcStatus.INVALID_ARGUMENT]: 'GRPC_INVALID_ARGUMENT',
  [GrpcStatus.DEADLINE_EXCEEDED]: 'GRPC_DEADLINE_EXCEEDED',
  [GrpcStatus.NOT_FOUND]: 'GRPC_NOT_FOUND',
  [GrpcStatus.ALREADY_EXISTS]: 'GRPC_ALREADY_EXISTS',
  [GrpcStatus.PERMISSION_DENIED]: 'GRPC_PERMISSION_DENIED',
  [GrpcStatus.RESOURCE_EXHAUSTED]: 'GRPC_RESOURCE_EXHAUSTED',
  [GrpcStatus.FAILED_PRECONDITION]: 'GRPC_FAILED_PRECONDITION',
  [GrpcStatus.ABORTED]: 'GRPC_ABORTED',
  [GrpcStatus.OUT_OF_RANGE]: 'GRPC_OUT_OF_RANGE',
  [GrpcStatus.UNIMPLEMENTED]: 'GRPC_UNIMPLEMENTED',
  [GrpcStatus.INTERNAL]: 'GRPC_INTERNAL',
  [GrpcStatus.UNAVAILABLE]: 'GRPC_UNAVAILABLE',
  [GrpcStatus.DATA_LOSS]: 'GRPC_DATA_LOSS',
  [GrpcStatus.UNAUTHENTICATED]: 'GRPC_UNAUTHENTICATED',
};

/** The error code for a non-OK gRPC status; anything unrecognised is UNKNOWN. */
export function errorCodeOf(code: number): ErrorCode {
  return CODES[code] ?? 'GRPC_UNKNOWN';
}

/** The status name: NOT_FOUND for 5. */
export function statusName(code: number): string {
  return (GrpcStatus as unknown as Record<number, string>)[code] ?? 'UNKNOWN';
}

/** An HTTP status from a REST service -> the gRPC status a gRPC client gets (the reverse of grpc-gateway's table). */
export function grpcStatusOfHttp(httpStatus: number): GrpcStatus {
  switch (httpStatus) {
    case 400:
      return GrpcStatus.INVALID_ARGUMENT;
    case 401:
      return GrpcStatus.UNAUTHENTICATED;
    case 403:
      return GrpcStatus.PERMISSION_DENIED;
    case 404:
      return GrpcStatus.NOT_FOUND;
    case 409:
      return GrpcStatus.ABORTED;
    case 412:
      return GrpcStatus.FAILED_PRECONDITION;
    case 429:
      return GrpcStatus.RESOURCE_EXHAUSTED;
    case 499:
      return GrpcStatus.CANCELLED;
    case 501:
      return GrpcStatus.UNIMPLEMENTED;
    case 502:
    case 503:
      return GrpcStatus.UNAVAILABLE;
    case 504:
      return GrpcStatus.DEADLINE_EXCEEDED;
    default:
      if (httpStatus >= 200 && httpStatus < 300) return GrpcStatus.OK;
      if (httpStatus >= 400 && httpStatus < 500) return GrpcStatus.FAILED_PRECONDITION;
      return httpStatus >= 500 ? GrpcStatus.INTERNAL : GrpcStatus.UNKNOWN;
  }
}
