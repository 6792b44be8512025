// The local token table's server: dynalite in a process of its own (see local-table.ts), so
// that its work never stalls the event loop of the servers and functions it serves. It
// listens on 127.0.0.1, creates the table, reports its port over IPC, counts the requests it
// receives per operation (asked for over IPC), and exits when its parent goes away.
//
// dynalite answers any Origin with `Access-Control-Allow-Origin: *`, so a request from a web
// page never reaches it: it is answered 403 with no CORS header here, by the rule of
// sim/loopback-server.ts (fromWebPage; this file is plain JavaScript and cannot import it).
import dynalite from 'dynalite';

const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });

/** An Origin, or a Sec-Fetch-Site other than `none`: a browser sent it for a page. */
const fromWebPage = (headers) => headers.origin !== undefined || (headers['sec-fetch-site'] ?? 'none') !== 'none';
const handlers = server.listeners('request');
server.removeAllListeners('request');
server.on('request', (request, response) => {
  if (fromWebPage(request.headers)) {
    request.resume();
    const body = JSON.stringify({ error: { code: 'Forbidden', message: 'Requests from a web page are refused by the local table.' } });
    response.writeHead(403, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    response.end(body);
    return;
  }
  for (const handler of handlers) handler.call(server, request, response);
});
let counts = {};
let counting = false;
server.prependListener('request', (request) => {
  if (!counting) return;
  // X-Amz-Target: DynamoDB_20120810.GetItem
  const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? 'unknown';
  counts[operation] = (counts[operation] ?? 0) + 1;
});

/** One request in the DynamoDB JSON protocol; dynalite wants a SigV4-shaped header but checks no signature. */
async function call(port, operation, body, { ok = [] } = {}) {
  const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  const response = await fetch(`http://127.0.0.1:${port}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `DynamoDB_20120810.${operation}`,
      'x-amz-date': date,
      authorization: `AWS4-HMAC-SHA256 Credential=local/${date.slice(0, 8)}/local/dynamodb/aws4_request, SignedHeaders=host, Signature=local`,
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok && !ok.some((type) => text.includes(type))) throw new Error(`${operation}: ${response.status} ${text}`);
  return response.ok ? JSON.parse(text) : undefined;
}

const tableName = process.env.LOCAL_TABLE_NAME;
// The deployed key schema: partition key `pk` (String) and nothing else.
async function createTable(port) {
  await call(port, 'CreateTable', {
    TableName: tableName,
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
    BillingMode: 'PAY_PER_REQUEST',
  });
  // dynalite makes a table ACTIVE asynchronously, even with createTableMs 0: until then a
  // request for it is ResourceNotFoundException (seen on a loaded machine), so wait for it.
  while ((await call(port, 'DescribeTable', { TableName: tableName }))?.Table?.TableStatus !== 'ACTIVE') {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Every item gone: the table dropped and made again (faster than deleting item by item). */
async function clearTable(port) {
  await call(port, 'DeleteTable', { TableName: tableName }, { ok: ['ResourceNotFoundException'] });
  // dynalite drops a table asynchronously, even with deleteTableMs 0.
  while (await call(port, 'DescribeTable', { TableName: tableName }, { ok: ['ResourceNotFoundException'] })) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await createTable(port);
}

server.listen(Number(process.env.LOCAL_TABLE_PORT ?? 0), '127.0.0.1', async () => {
  const { port } = server.address();
  try {
    await createTable(port);
  } catch (error) {
    process.send?.({ type: 'failed', message: String(error) });
    process.exit(1);
  }
  counting = true;
  process.send?.({ type: 'listening', port });
});
process.on('message', async (message) => {
  if (message?.type === 'clear') {
    counting = false;
    try {
      await clearTable(server.address().port);
      process.send?.({ type: 'clear', id: message.id });
    } catch (error) {
      process.send?.({ type: 'clear', id: message.id, message: String(error) });
    } finally {
      counting = true;
    }
  }
  if (message?.type === 'requests') process.send?.({ type: 'requests', id: message.id, counts });
  if (message?.type === 'resetRequests') {
    counts = {};
    process.send?.({ type: 'resetRequests', id: message.id });
  }
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
