/**
 * One Lambda instance in a process of its own, for tests where an instance must die: it
 * answers one HTTP request (`<route> <json body>` as arguments, the environment as the test
 * set it) and reports the answer over IPC. Run with `node --import tsx`.
 */
import { loadOperations } from '../../lib/operations/index.js';
import { httpApiEvent, lambdaContext } from '../../sim/lambda-events.js';
import { invokeHttp } from './invoke-http.js';

const [route, body] = process.argv.slice(2);
const op = (await loadOperations()).find((candidate) => candidate.route === route);
if (!op) throw new Error(`no operation serves ${route}`);
const { handler } = (await import(
  `../../functions/${op.functionName}.ts`
)) as typeof import('../../functions/cams-get-upload-authorization.js');
const answer = await invokeHttp(handler, httpApiEvent(route!, JSON.parse(body!)), lambdaContext(30_000));
process.send?.({ statusCode: answer.statusCode, json: answer.json });
process.disconnect?.();
