/** Why a batch cannot go where it was sent (POST /events); `kind` decides the HTTP status. */
export type IngestTargetErrorKind = 'bad_request' | 'not_found' | 'conflict' | 'too_large' | 'unavailable';

export class IngestTargetError extends Error {
  /** `details`: more fields for the reply body (e.g. how far a partly written request got). */
  constructor(
    message: string,
    readonly kind: IngestTargetErrorKind,
    readonly details?: Readonly<Record<string, number | string>>,
  ) {
    super(message);
    this.name = 'IngestTargetError';
  }
}
