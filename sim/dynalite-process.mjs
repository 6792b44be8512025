// The local token table's server: dynalite in a process of its own (see local-table.ts), so
// that its work never stalls the event loop of the servers and functions it serves. It
// listens on 127.0.0.1, creates the table, reports its port over IPC, counts the requests it
// receives per operation (asked for over IPC), and exits when its parent goes away.
import dynalite from 'dynalite';

const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
let counts = {};
let counting = false;
server.prependListener('request', (request) => {
  if (!counting) return;
  // X-Amz-Target: DynamoDB_20120810.GetItem
  const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? 'unknown';
  counts[operation] = (counts[operation] ?? 0) + 1;
});

/** One request in the DynamoDB JSON protocol; dynalite wants a SigV4-shaped header but checks no signature. */
async function call(port, operation, body) {
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
  if (!response.ok) throw new Error(`${operation}: ${response.status} ${await response.text()}`);
}

server.listen(Number(process.env.LOCAL_TABLE_PORT ?? 0), '127.0.0.1', async () => {
  const { port } = server.address();
  try {
    // The deployed key schema: partition key `pk` (String) and nothing else.
    await call(port, 'CreateTable', {
      TableName: process.env.LOCAL_TABLE_NAME,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    });
  } catch (error) {
    process.send?.({ type: 'failed', message: String(error) });
    process.exit(1);
  }
  counting = true;
  process.send?.({ type: 'listening', port });
});
process.on('message', (message) => {
  if (message?.type === 'requests') process.send?.({ type: 'requests', id: message.id, counts });
  if (message?.type === 'resetRequests') {
    counts = {};
    process.send?.({ type: 'resetRequests', id: message.id });
  }
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
