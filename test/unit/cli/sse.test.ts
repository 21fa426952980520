// The text/event-stream parser: line ends, chunk boundaries, comments, multi-line data.
import { readSse, SseParser } from '../../../engine-plugin/cli/sse';

const parseAll = (chunks: string[]) => {
  const p = new SseParser();
  return chunks.flatMap((c) => p.push(c));
};

describe('SseParser', () => {
  it.each([
    ['LF', 'id: 1\nevent: snapshot\ndata: {"a":1}\n\n'],
    ['CRLF', 'id: 1\r\nevent: snapshot\r\ndata: {"a":1}\r\n\r\n'],
    ['CR', 'id: 1\revent: snapshot\rdata: {"a":1}\r\r'],
    ['no space after colon', 'id:1\nevent:snapshot\ndata:{"a":1}\n\n'],
  ])('parses an event with %s line ends', (_name, text) => {
    expect(parseAll([text])).toEqual([{ event: 'snapshot', data: '{"a":1}', id: '1' }]);
  });

  it('gives the same events whatever the chunk boundaries', () => {
    const text = ': keep-alive\n\nevent: state\ndata: {"jobId":"j","state":"running"}\n\r\nevent: operation\r\ndata: {"x":2}\r\n\r\n';
    const whole = parseAll([text]);
    expect(whole).toHaveLength(2);
    for (let i = 1; i < text.length; i++) expect(parseAll([text.slice(0, i), text.slice(i)])).toEqual(whole);
    expect(parseAll([...text])).toEqual(whole);
  });

  it('treats a CR at the end of a chunk and an LF at the start of the next as one line end', () => {
    expect(parseAll(['data: a\r', '\ndata: b\r', '\n\r', '\n'])).toEqual([{ event: 'message', data: 'a\nb', id: undefined }]);
  });

  it('skips comments, unknown fields, and blank lines without data; strips a BOM', () => {
    expect(parseAll(['\uFEFF: hello\n\nretry: 10\nfoo: bar\n\nevent: x\n\ndata\n\n'])).toEqual([{ event: 'message', data: '', id: undefined }]);
  });

  it('keeps an incomplete event until its blank line', () => {
    const p = new SseParser();
    expect(p.push('event: state\ndata: {"a"')).toEqual([]);
    expect(p.push(':1}\n')).toEqual([]);
    expect(p.push('\n')).toEqual([{ event: 'state', data: '{"a":1}', id: undefined }]);
  });

  it('reads a byte stream split inside a multi-byte character', async () => {
    const bytes = Buffer.from('event: operation\ndata: {"vm":"café"}\n\n');
    const cut = bytes.indexOf(0xc3) + 1;
    async function* body() {
      yield bytes.subarray(0, cut);
      yield bytes.subarray(cut);
    }
    const events = [];
    for await (const e of readSse(body())) events.push(e);
    expect(events).toEqual([{ event: 'operation', data: '{"vm":"café"}', id: undefined }]);
  });
});
