// Patched by cepheus scripts/patch-dependencies.js (kafkajs 2.2.4): offsets and timestamps computed with exact
// numbers when they fit, headers gathered without a copy per header. Same records.
const Long = require('../../../../utils/long')
const HeaderDecoder = require('../../header/v0/decoder')
const TimestampTypes = require('../../../timestampTypes')

/**
 * v0
 * Record =>
 *   Length => Varint
 *   Attributes => Int8
 *   TimestampDelta => Varlong
 *   OffsetDelta => Varint
 *   Key => varInt|Bytes
 *   Value => varInt|Bytes
 *   Headers => [HeaderKey HeaderValue]
 *     HeaderKey => VarInt|String
 *     HeaderValue => VarInt|Bytes
 */

module.exports = (decoder, batchContext = {}) => {
  const {
    firstOffset,
    firstTimestamp,
    magicByte,
    isControlBatch = false,
    timestampType,
    maxTimestamp,
  } = batchContext
  const attributes = decoder.readInt8()

  const timestampDelta = readVarLongFast(decoder)
  const timestamp =
    timestampType === TimestampTypes.LOG_APPEND_TIME && maxTimestamp
      ? maxTimestamp
      : addToDecimal(firstTimestamp, timestampDelta, timestampBase)

  const offsetDelta = decoder.readVarInt()
  const offset = addToDecimal(firstOffset, offsetDelta, offsetBase)

  const key = decoder.readVarIntBytes()
  const value = decoder.readVarIntBytes()
  const headers = readHeaders(decoder)

  return {
    magicByte,
    attributes, // Record level attributes are presently unused
    timestamp,
    offset,
    key,
    value,
    headers,
    isControlRecord: isControlBatch,
    batchContext,
  }
}

// Patched (cepheus scripts/patch-dependencies.js): the same record, decoded with numbers where they are
// exact instead of a BigInt-backed Long per field and per varint byte, and headers gathered in one object
// instead of a spread copy per header.

/** A varlong of at most 7 bytes as a number (exact: below 2^49); longer ones through Decoder#readVarLong. */
const readVarLongFast = decoder => {
  const buffer = decoder.buffer
  const start = decoder.offset
  let zigZag = 0
  let scale = 1
  for (let i = start; i < start + 7 && i < buffer.length; i++) {
    const byte = buffer[i]
    zigZag += (byte & 0x7f) * scale
    if (byte < 0x80) {
      decoder.offset = i + 1
      return zigZag % 2 === 0 ? zigZag / 2 : -(zigZag + 1) / 2
    }
    scale *= 128
  }
  return decoder.readVarLong()
}

/** The batch's first offset or timestamp last seen, and its exact number (undefined if it has none). */
const offsetBase = { decimal: undefined, value: undefined }
const timestampBase = { decimal: undefined, value: undefined }

const decimalNumber = (decimal, base) => {
  if (decimal !== base.decimal) {
    const n = typeof decimal === 'string' ? Number(decimal) : NaN
    base.value = Number.isSafeInteger(n) && String(n) === decimal ? n : undefined
    base.decimal = decimal
  }
  return base.value
}

/** String(decimal + delta), as Long.fromValue(decimal).add(delta).toString() gives it. */
const addToDecimal = (decimal, delta, base) => {
  if (typeof delta === 'number') {
    const n = decimalNumber(decimal, base)
    if (n !== undefined) {
      const sum = n + delta
      if (Number.isSafeInteger(sum)) return String(sum)
    }
  }
  return Long.fromValue(decimal)
    .add(delta)
    .toString()
}

/** Headers as kafkajs 2.2.4 returns them: a repeated key gathers its values in an array. */
const readHeaders = decoder => {
  const headers = {}
  const count = decoder.readVarInt()
  for (let i = 0; i < count; i++) {
    const { key, value } = HeaderDecoder(decoder)
    const current = headers[key]
    const next =
      current === undefined ? value : Array.isArray(current) ? current.concat([value]) : [current, value]
    if (key === '__proto__') {
      // An own data property, as the original's spread with a computed key makes, not a prototype change.
      Object.defineProperty(headers, key, { value: next, enumerable: true, configurable: true, writable: true })
    } else {
      headers[key] = next
    }
  }
  return headers
}
