/**
 * Query parameters. The app's 'simple' query parser turns a repeated parameter (`limit=1&limit=2`) into an
 * array: every parameter the API reads is refused when given more than once.
 */
import { BadRequestException } from '@nestjs/common';

/** A query parameter's value, undefined when absent; 400 when it is given more than once. */
export function singleQueryValue(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw new BadRequestException(`${name} was given ${value.length} times: give it once`);
  return String(value);
}
