import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { nextListenPort, portFree } from '../../src/edge/listen-port.js';

describe('edge listener ports', () => {
  let held: Server | undefined;
  afterEach(() => held?.close());

  it('sees a port another program listens on as taken, and a released one as free', async () => {
    held = createServer();
    const port = await new Promise<number>((resolve) =>
      held!.listen({ host: '127.0.0.1', port: 0 }, () => {
        resolve((held!.address() as { port: number }).port);
      }),
    );
    expect(await portFree('127.0.0.1', port)).toBe(false);
    await new Promise((r) => held!.close(r));
    held = undefined;
    expect(await portFree('127.0.0.1', port)).toBe(true);
  });

  it.each([
    { name: 'the first port when it is free', taken: [], want: 9000 },
    { name: 'skips taken ports', taken: [9000, 9001], want: 9002 },
  ])('hands out $name', async ({ taken, want }) => {
    let n = 9000;
    const port = await nextListenPort(
      '127.0.0.1',
      async () => n++,
      async (_h, p) => !taken.includes(p),
    );
    expect(port).toBe(want);
  });

  it('gives up with a clear error when every port it tries is taken', async () => {
    let n = 9000;
    await expect(
      nextListenPort(
        '127.0.0.1',
        async () => n++,
        async () => false,
      ),
    ).rejects.toThrow(/no free edge listener port on 127\.0\.0\.1/);
  });
});
