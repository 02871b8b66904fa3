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

/**
 * A positive integer query parameter, undefined when absent or empty; 400 otherwise. With `cap`, larger values
 * are taken as `cap` (and the message says so).
 */
export function positiveIntegerParam(name: string, raw: unknown, cap?: number): number | undefined {
  const value = singleQueryValue(name, raw);
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new BadRequestException(`${name} must be a positive integer${cap === undefined ? '' : ` (values over ${cap} are capped)`}, found '${value}'`);
  }
  return cap === undefined ? Number(value) : Math.min(Number(value), cap);
}
