import { Agent } from 'node:http';
import { connect } from 'node:net';

/**
 * An HTTP agent whose every socket leads to 127.0.0.1:`port`, whatever host the URL names:
 * lets a vendor SDK keep the vendor's real host name (from which it derives what it signs)
 * while talking to a local server.
 */
export function loopbackAgent(port: () => number): Agent {
  class LoopbackAgent extends Agent {
    override createConnection() {
      return connect(port(), '127.0.0.1');
    }
  }
  return new LoopbackAgent({ keepAlive: true });
}
