import { createHash, createHmac, randomBytes, randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { ACCOUNT, IamError, IamState, type FakeUser } from "./fake-iam-state.js";

/**
 * A stateful fake of AWS IAM (Query protocol, 2010-05-08) and STS (AssumeRole,
 * GetCallerIdentity) on 127.0.0.1, for the real @aws-sdk clients: they sign, serialise and parse
 * errors exactly as against AWS. Requests must carry a valid SigV4 signature from a known key
 * (the root key, an STS session key, or a key made by CreateAccessKey).
 */
export interface FakeIamCall {
  action: string;
  /** Access key id that signed the request. */
  accessKeyId: string;
  params: Record<string, string>;
}

export interface Failure {
  code: string;
  status?: number;
  message?: string;
  /** How many calls fail (default 1); "always" until cleared. */
  times?: number | "always";
}

export interface FakeIam {
  endpoint: string;
  rootAccessKeyId: string;
  rootSecretAccessKey: string;
  calls(): FakeIamCall[];
  actions(): string[];
  clearCalls(): void;
  /** Makes the next call(s) of `action` fail with an IAM error, before any state changes. */
  failOn(action: string, failure: Failure): void;
  clearFailures(): void;
  users(): FakeUser[];
  addGroup(name: string): void;
  addPolicy(arn: string): void;
  /** A role AssumeRole accepts (with this ExternalId, if given). */
  addRole(arn: string, externalId?: string): void;
  /** Creates a user directly (not recorded), e.g. to simulate a name collision. */
  seedUser(name: string, tags?: Record<string, string>): void;
  /** Another root key: of this fake's account by default, or of `account` (which sees no users here). */
  addRootKey(account?: string): { accessKeyId: string; secretAccessKey: string };
  /** Deletes a signing key (a root key rotated away): requests signed with it are refused. */
  removeKey(accessKeyId: string): void;
  close(): Promise<void>;
}

const DEFAULT_STATUS: Record<string, number> = {
  Throttling: 400,
  ServiceUnavailable: 503,
  ServiceFailure: 500,
  NoSuchEntity: 404,
  EntityAlreadyExists: 409,
  DeleteConflict: 409,
  AccessDenied: 403,
  InvalidInput: 400,
  MalformedPolicyDocument: 400,
};

export const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const el = (tag: string, v: string | undefined) => (v === undefined ? "" : `<${tag}>${esc(v)}</${tag}>`);
const members = (items: string[]) => items.map((i) => `<member>${i}</member>`).join("");

export async function startFakeIam(opts: { pageSize?: number } = {}): Promise<FakeIam> {
  const state = new IamState();
  const root = { akid: "AKIAFAKEROOT00000001", secret: "fake-root-secret/Key+0123456789abcdef" };
  state.keys.set(root.akid, { secret: root.secret, arn: `arn:aws:iam::${ACCOUNT}:user/leasehold-root` });
  const calls: FakeIamCall[] = [];
  const failures = new Map<string, Required<Failure>[]>();
  const pageSize = opts.pageSize ?? 100;

  function page(p: Record<string, string>, items: string[], wrap: string): string {
    const start = Number(p.Marker ?? 0);
    const size = Math.min(Number(p.MaxItems ?? pageSize), pageSize);
    const slice = items.slice(start, start + size);
    const more = start + size < items.length;
    return `<${wrap}>${members(slice)}</${wrap}><IsTruncated>${more}</IsTruncated>${more ? el("Marker", String(start + size)) : ""}`;
  }
  const userXml = (u: FakeUser, full = false) =>
    el("Path", u.path) +
    el("UserName", u.name) +
    el("UserId", u.id) +
    el("Arn", u.arn) +
    el("CreateDate", u.createDate) +
    (full && u.boundary
      ? `<PermissionsBoundary><PermissionsBoundaryType>PermissionsBoundaryPolicy</PermissionsBoundaryType>${el("PermissionsBoundaryArn", u.boundary)}</PermissionsBoundary>`
      : "");
  const tagsOf = (p: Record<string, string>) => {
    const tags: Record<string, string> = {};
    for (let i = 1; p[`Tags.member.${i}.Key`] !== undefined; i++) tags[p[`Tags.member.${i}.Key`] as string] = p[`Tags.member.${i}.Value`] ?? "";
    return tags;
  };

  /** The account a signing key acts in (from its ARN). */
  const accountOf = (akid: string) => state.keys.get(akid)?.arn.split(":")[4] ?? ACCOUNT;

  /** Result XML (inside <XResult>) or null for actions without a result element. */
  function handle(action: string, p: Record<string, string>, caller: string): string | null {
    const s = state;
    // This fake holds one account's IAM; a key of another account (addRootKey) sees it empty.
    if (accountOf(caller) !== ACCOUNT && p.UserName !== undefined) {
      throw new IamError("NoSuchEntity", 404, `The user with name ${p.UserName} cannot be found.`);
    }
    switch (action) {
      case "CreateUser":
        return `<User>${userXml(s.createUser(p.UserName, p.Path ?? "/", p.PermissionsBoundary, tagsOf(p)), true)}</User>`;
      case "GetUser": {
        const u = s.user(p.UserName ?? s.keys.get(caller)?.user);
        const tags = Object.entries(u.tags).map(([k, v]) => el("Key", k) + el("Value", v));
        return `<User>${userXml(u, true)}<Tags>${members(tags)}</Tags></User>`;
      }
      case "ListUserTags": {
        const tags = Object.entries(s.user(p.UserName).tags).map(([k, v]) => el("Key", k) + el("Value", v));
        return page(p, tags, "Tags");
      }
      case "DeleteUser":
        return s.deleteUser(p.UserName), null;
      case "PutUserPolicy":
        return s.putUserPolicy(p.UserName, p.PolicyName, p.PolicyDocument), null;
      case "DeleteUserPolicy":
        return s.deleteUserPolicy(p.UserName, p.PolicyName), null;
      case "ListUserPolicies":
        return page(p, Object.keys(s.user(p.UserName).inlinePolicies).map(esc), "PolicyNames");
      case "AttachUserPolicy":
        return s.attach(p.UserName, p.PolicyArn), null;
      case "DetachUserPolicy":
        return s.detach(p.UserName, p.PolicyArn), null;
      case "ListAttachedUserPolicies": {
        const items = s.user(p.UserName).attachedPolicies.map((a) => el("PolicyName", a.split("/").pop()) + el("PolicyArn", a));
        return page(p, items, "AttachedPolicies");
      }
      case "AddUserToGroup":
        return s.addToGroup(p.UserName, p.GroupName), null;
      case "RemoveUserFromGroup":
        return s.removeFromGroup(p.UserName, p.GroupName), null;
      case "ListGroupsForUser": {
        const items = s.user(p.UserName).groups.map(
          (g) => el("Path", "/") + el("GroupName", g) + el("GroupId", `AGPA${g.toUpperCase()}`) + el("Arn", `arn:aws:iam::${ACCOUNT}:group/${g}`) + el("CreateDate", "2026-01-01T00:00:00Z"),
        );
        return page(p, items, "Groups");
      }
      case "CreateAccessKey": {
        const { akid, secret } = s.createAccessKey(p.UserName);
        return `<AccessKey>${el("UserName", p.UserName)}${el("AccessKeyId", akid)}<Status>Active</Status>${el("SecretAccessKey", secret)}${el("CreateDate", new Date().toISOString())}</AccessKey>`;
      }
      case "DeleteAccessKey":
        return s.deleteAccessKey(p.UserName, p.AccessKeyId), null;
      case "ListAccessKeys": {
        const u = s.user(p.UserName);
        const items = u.accessKeys.map((k) => el("UserName", u.name) + el("AccessKeyId", k) + "<Status>Active</Status>" + el("CreateDate", u.createDate));
        return page(p, items, "AccessKeyMetadata");
      }
      case "AssumeRole": {
        const c = s.assumeRole(p.RoleArn, p.ExternalId);
        return `<Credentials>${el("AccessKeyId", c.akid)}${el("SecretAccessKey", c.secret)}${el("SessionToken", c.sessionToken)}${el("Expiration", c.expiration)}</Credentials><AssumedRoleUser>${el("Arn", c.arn)}${el("AssumedRoleId", `AROA:${p.RoleSessionName}`)}</AssumedRoleUser>`;
      }
      case "GetCallerIdentity":
        return el("Arn", s.keys.get(caller)?.arn) + el("UserId", caller) + el("Account", accountOf(caller));
      default:
        throw new IamError("InvalidAction", 400, `Could not find operation ${action}.`);
    }
  }

  /** Verifies the SigV4 signature; returns the signing access key id. */
  function authenticate(req: http.IncomingMessage, body: string, service: string): string {
    const auth = req.headers.authorization ?? "";
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
    if (!m) throw new IamError("MissingAuthenticationToken", 403, "Request is missing Authentication Token");
    const [, akid, date, region, svc, signed, signature] = m as unknown as string[];
    const key = state.keys.get(akid as string);
    if (!key) throw new IamError("InvalidClientTokenId", 403, "The security token included in the request is invalid.");
    if (svc !== service) throw new IamError("SignatureDoesNotMatch", 403, `Credential should be scoped to service '${service}'.`);
    if (key.sessionToken && req.headers["x-amz-security-token"] !== key.sessionToken) {
      throw new IamError("InvalidClientTokenId", 403, "The security token included in the request is invalid.");
    }
    const names = (signed as string).split(";");
    const canonicalHeaders = names.map((h) => `${h}:${String(req.headers[h] ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
    const payloadHash = createHash("sha256").update(body).digest("hex");
    const canonical = ["POST", "/", "", canonicalHeaders, signed, payloadHash].join("\n");
    const scope = `${date}/${region}/${svc}/aws4_request`;
    const toSign = ["AWS4-HMAC-SHA256", req.headers["x-amz-date"], scope, createHash("sha256").update(canonical).digest("hex")].join("\n");
    let k: Buffer = createHmac("sha256", `AWS4${key.secret}`).update(date as string).digest();
    for (const part of [region, svc, "aws4_request"]) k = createHmac("sha256", k).update(part as string).digest();
    if (createHmac("sha256", k).update(toSign).digest("hex") !== signature) {
      throw new IamError("SignatureDoesNotMatch", 403, "The request signature we calculated does not match the signature you provided.");
    }
    return akid as string;
  }

  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (d: string) => (body += d));
    req.on("end", () => {
      const requestId = randomUUID();
      const p = Object.fromEntries(new URLSearchParams(body));
      const action = p.Action ?? "";
      const sts = p.Version === "2011-06-15";
      const xmlns = sts ? "https://sts.amazonaws.com/doc/2011-06-15/" : "https://iam.amazonaws.com/doc/2010-05-08/";
      const send = (status: number, xml: string) => {
        res.writeHead(status, { "content-type": "text/xml", "x-amzn-requestid": requestId });
        res.end(xml);
      };
      try {
        const caller = authenticate(req, body, sts ? "sts" : "iam");
        calls.push({ action, accessKeyId: caller, params: p });
        const queued = failures.get(action)?.[0];
        if (queued) {
          if (queued.times !== "always" && --queued.times <= 0) failures.get(action)?.shift();
          throw new IamError(queued.code, queued.status, queued.message);
        }
        const result = handle(action, p, caller);
        const inner = result === null ? "" : `<${action}Result>${result}</${action}Result>`;
        send(200, `<${action}Response xmlns="${xmlns}">${inner}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`);
      } catch (err) {
        const e = err instanceof IamError ? err : new IamError("ServiceFailure", 500, String(err));
        const type = e.status >= 500 ? "Receiver" : "Sender";
        send(e.status, `<ErrorResponse xmlns="${xmlns}"><Error><Type>${type}</Type><Code>${e.code}</Code><Message>${esc(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    rootAccessKeyId: root.akid,
    rootSecretAccessKey: root.secret,
    calls: () => calls.map((c) => ({ ...c, params: { ...c.params } })),
    actions: () => calls.map((c) => c.action),
    clearCalls: () => void calls.splice(0),
    failOn(action, f) {
      const list = failures.get(action) ?? [];
      list.push({ status: DEFAULT_STATUS[f.code] ?? 400, message: `Injected ${f.code}`, times: 1, ...f });
      failures.set(action, list);
    },
    clearFailures: () => failures.clear(),
    users: () => [...state.users.values()].map((u) => structuredClone(u)),
    addGroup: (name) => void state.groups.set(name, new Set()),
    addPolicy: (arn) => void state.policies.add(arn),
    addRole: (arn, externalId) => void state.roles.set(arn, externalId === undefined ? {} : { externalId }),
    seedUser: (name, tags = {}) => void state.createUser(name, "/", undefined, tags),
    addRootKey(account = ACCOUNT) {
      const accessKeyId = `AKIAROOT${randomBytes(6).toString("hex").toUpperCase()}`;
      const secretAccessKey = randomBytes(30).toString("base64");
      state.keys.set(accessKeyId, { secret: secretAccessKey, arn: `arn:aws:iam::${account}:user/leasehold-root-${accessKeyId}` });
      return { accessKeyId, secretAccessKey };
    },
    removeKey: (accessKeyId) => void state.keys.delete(accessKeyId),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // SDK clients keep connections alive
      }),
  };
}
