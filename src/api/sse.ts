/**
 * Server-sent event streams the API writes itself (live events, live logs): fastify hands the
 * socket over, and every stream opens with the same headers and a first comment.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';

/**
 * Takes the response over from fastify and opens it as an event stream; returns the raw response.
 * `x-accel-buffering: no` keeps a reverse proxy (nginx) from holding frames back.
 */
export function openSse(reply: FastifyReply): ServerResponse {
  const res = reply.raw;
  reply.hijack();
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  // Sent at once, so the client knows the stream is open before the first event.
  res.write(': connected\n\n');
  return res;
}
