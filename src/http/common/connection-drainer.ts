/**
 * Graceful HTTP shutdown. Node's server.close() waits for every open connection, including connections that
 * never sent a request (clients open spare ones) and keep-alive connections between requests. Once the
 * writes in flight are done, this closes the connections that carry no request, and every other one as soon
 * as its response is finished, so that the server closes without waiting for clients' keep-alive timeouts.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { BeforeApplicationShutdown, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ServiceState } from '../../app/lifecycle/service-state';

@Injectable()
export class ConnectionDrainer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  /** Open connections → requests in progress on each. */
  private readonly sockets = new Map<Socket, number>();
  private closing = false;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly state: ServiceState,
  ) {}

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server) return;
    server.on('connection', (socket: Socket) => {
      this.sockets.set(socket, 0);
      socket.once('close', () => this.sockets.delete(socket));
      if (this.closing) socket.destroy();
    });
    server.on('request', (req, res) => {
      const socket = req.socket;
      this.sockets.set(socket, (this.sockets.get(socket) ?? 0) + 1);
      if (this.closing && !res.headersSent) res.shouldKeepAlive = false;
      res.once('close', () => {
        const left = (this.sockets.get(socket) ?? 1) - 1;
        if (this.sockets.has(socket)) this.sockets.set(socket, left);
        if (this.closing && left === 0) socket.end();
      });
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.state.idle();
    this.closing = true;
    for (const [socket, requests] of this.sockets) {
      if (requests === 0) socket.destroy();
    }
  }
}
