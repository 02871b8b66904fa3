import { HttpException } from '@nestjs/common';
import { eventsBodyKind, parseEventsBody } from './events-body';

const status = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as HttpException).getStatus();
  }
  return 'no error';
};

describe('events bodies', () => {
  it('knows the JSON and JSON-lines media types', () => {
    expect(eventsBodyKind('application/json')).toBe('json');
    expect(eventsBodyKind('application/cloudevents+json')).toBe('json');
    expect(eventsBodyKind('application/x-ndjson')).toBe('ndjson');
    expect(eventsBodyKind('application/jsonl')).toBe('ndjson');
    expect(status(() => eventsBodyKind('text/plain'))).toBe(415);
    expect(status(() => eventsBodyKind(''))).toBe(415);
  });

  it('JSON: one value or an array; invalid JSON is 400; too many is 413', () => {
    expect(parseEventsBody('{"a":1}', 'json', 10)).toEqual([{ event: { a: 1 } }]);
    expect(parseEventsBody('[{"a":1}, 2]', 'json', 10)).toEqual([{ event: { a: 1 } }, { event: 2 }]);
    expect(parseEventsBody('[]', 'json', 10)).toEqual([]);
    expect(status(() => parseEventsBody('{', 'json', 10))).toBe(400);
    expect(status(() => parseEventsBody('  ', 'json', 10))).toBe(400);
    expect(status(() => parseEventsBody('[1,2,3]', 'json', 2))).toBe(413);
  });

  it('JSON lines: blank lines skipped, CRLF accepted, bad lines unparsable, too many is 413', () => {
    expect(parseEventsBody('{"a":1}\r\n\n  \n{oops\n[1]', 'ndjson', 10)).toEqual([{ event: { a: 1 } }, { unparsable: true }, { event: [1] }]);
    expect(parseEventsBody('', 'ndjson', 10)).toEqual([]);
    expect(status(() => parseEventsBody('1\n2\n3\n', 'ndjson', 2))).toBe(413);
  });

  it('an event nested more than 512 levels deep is rejected as too_deep; the others go on', () => {
    const deep = `{"type":"A","x":${'['.repeat(600)}${']'.repeat(600)}}`;
    const flat = '{"type":"B"}';
    expect(parseEventsBody(deep, 'json', 10)).toEqual([{ tooDeep: true }]);
    expect(parseEventsBody(`[${flat},${deep},${flat}]`, 'json', 10)).toEqual([{ event: { type: 'B' } }, { tooDeep: true }, { event: { type: 'B' } }]);
    expect(parseEventsBody(`${flat}\n${deep}\n${flat}`, 'ndjson', 10)).toEqual([{ event: { type: 'B' } }, { tooDeep: true }, { event: { type: 'B' } }]);
    // Brackets inside strings do not count.
    const text = `{"type":"A","s":"${'['.repeat(600)}"}`;
    expect(parseEventsBody(text, 'json', 10)).toEqual([{ event: JSON.parse(text) }]);
  });
});
