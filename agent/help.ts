/**
 * `cloud-token-broker-agent --help`: every flag, the endpoints and the command, in one text
 * (test/agent/main.test.ts checks that each flag parseFlags knows is documented here).
 * @module
 */
import { DEFAULT_AUTH, DEFAULT_LISTEN } from './flags.js';

/** The help text. */
export const HELP = `cloud-token-broker-agent: serves the broker's short-lived credentials to the apps beside it,
on loopback, in the formats the vendors' own SDKs read (docs/agent.md).

usage:
  cloud-token-broker-agent --broker <base URL> [--listen <host:port>] [--auth <mode>] [--route <name>=<broker path>[:<json body>]]...
  cloud-token-broker-agent print aliyun [--listen <host:port>] [--broker <base URL> --auth <mode> --route ...]
  npm run agent -- <the same flags>

flags:
  --broker <base URL>   the broker's API, https://… (plain http only on loopback). Required to serve.
  --listen <host:port>  where to listen; default ${DEFAULT_LISTEN}. The host must be 127.0.0.1, ::1 or
                        localhost (anything else is refused at start); port 0 picks a free one.
  --auth <mode>         how to authenticate to the broker; default ${DEFAULT_AUTH}:
                          iam                SigV4 for execute-api with the AWS default credential chain
                                             (task or pod role, environment, profile); region from AWS_REGION
                          jwt-file=<path>    Authorization: Bearer <the file's content>, read at every broker call
                                             (a rotated, projected token works)
                          none               no authentication (a local npm start)
  --route <name>=<broker path>[:<json body>]
                        repeatable: another credential route, served at /routes/<name>, e.g.
                        --route cams=/v1/aliyun/cams/upload-authorization:{"custSpaceId":"cs-demo"}. The names aliyun and
                        tencent set the body of the two defaults, e.g. --route aliyun=/v1/aliyun/sts/assume-role:{"durationSeconds":900}
  --help, -h            this text.

endpoints (GET only; a request with an Origin header, a Sec-Fetch-Site other than none, or a Host that
is not loopback gets 403):
  /aliyun/credentials   from /v1/aliyun/sts/assume-role, in the Alibaba Cloud credentials-URI format
                        {"Code":"Success","AccessKeyId","AccessKeySecret","SecurityToken","Expiration":"YYYY-MM-DDTHH:MM:SSZ"}
                        (set ALIBABA_CLOUD_CREDENTIALS_URI to it)
  /tencent/credentials  from /v1/tencent/sts/assume-role: {"TmpSecretId","TmpSecretKey","Token","ExpiredTime"} (epoch seconds)
  /routes/<name>        the route's data: {"data","expiresAt","refreshAfter"}
  A failure is a JSON error, 502 (the broker refused) or 503 (the broker cannot be reached and the last
  credentials are too close to expiry); expired credentials are never served.

commands:
  print aliyun          prints {"mode":"StsToken","access_key_id","access_key_secret","sts_token","expiration"}
                        for aliyun CLI's process_command: from the agent running at --listen, or, when none
                        answers there and --broker is given, from the broker directly.

At start the agent prints the environment lines an app needs (ALIBABA_CLOUD_CREDENTIALS_URI=…) on
stdout; its log is JSON lines on stderr, with no credential, token or JWT in it.
`;
