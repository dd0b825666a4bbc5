import type { Redis } from 'ioredis';

/** Sockets held corked until the end of the current turn of the event loop. */
const held = new WeakSet<object>();

/**
 * Holds what is written to `redis` from now to the end of this turn of the event loop and sends
 * it as one write (`cork`, then `uncork` in `setImmediate`). Requests served in the same turn
 * (a burst of webhooks, say) then share one syscall and one wake-up of Redis instead of one per
 * command; on a busy controller those writes were most of a webhook's CPU. ioredis's
 * auto-pipelining does the same by building a Pipeline, which on a connection carrying BullMQ's
 * scripts copies every one of them each time. Commands go out in the order they were issued and
 * replies are matched as before; a command that cannot be written fails as it would have.
 */
export function batchWrites(redis: Redis): void {
  const socket = redis.stream as Redis['stream'] | undefined;
  if (socket === undefined || !socket.writable || held.has(socket)) return;
  held.add(socket);
  socket.cork();
  setImmediate(() => {
    held.delete(socket);
    socket.uncork();
  });
}
