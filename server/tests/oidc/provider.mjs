// A real OpenID Connect provider for the dobush-server integration tests (panva/oidc-provider 9).
//
// It plays the role of Tunduk's login: authorization code + PKCE, response_mode=form_post, a `pin`
// claim in the ID token and an `acr` level chosen at login. It listens on 127.0.0.1 on a free port,
// prints `LISTENING <issuer>` on stdout once ready, and exits when its stdin closes (so it dies with
// the test process that started it).
//
// Test citizens: any 14-digit login is a citizen with that PIN (the register decides who may vote).
// The password must be `test-password`; anything else re-shows the form with an error.
// Login `nopin-<anything>` is an account whose ID token carries no `pin` claim.
import http from 'node:http';
import Provider from 'oidc-provider';

const ACR_STRONG = 'urn:dobush:test:cloud-signature';
const ACR_WEAK = 'urn:dobush:test:password';
const PASSWORD = 'test-password';

function account(id) {
  const hasPin = /^[0-9]{14}$/.test(id);
  if (!hasPin && !/^nopin-[a-z0-9]+$/.test(id)) return undefined;
  return {
    accountId: id,
    async claims() {
      const c = { sub: id, name: `Test Citizen ${id}` };
      if (hasPin) c.pin = id;
      return c;
    },
  };
}

let provider;
const server = http.createServer((req, res) => {
  if (!provider) { res.statusCode = 503; res.end(); return; }
  if (req.url.startsWith('/interaction/')) { interaction(req, res).catch((e) => fail(res, e)); return; }
  provider.callback()(req, res);
});

function fail(res, e) {
  console.error('interaction error', e);
  res.statusCode = 500;
  res.end(String(e));
}

function esc(s) { return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`); }

function form(uid, error) {
  return `<!doctype html><html><body>${error ? `<p class="error">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}">
<input name="login"><input name="password" type="password">
<select name="acr"><option value="${ACR_STRONG}">cloud signature</option><option value="${ACR_WEAK}">password</option></select>
<button type="submit">Sign in</button></form></body></html>`;
}

async function body(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  res.setHeader('content-type', 'text/html; charset=utf-8');
  if (req.method === 'GET') { res.end(form(details.uid)); return; }
  const p = await body(req);
  const login = p.get('login') || '';
  const acct = account(login);
  if (!acct || p.get('password') !== PASSWORD) { res.end(form(details.uid, 'wrong login or password')); return; }
  const acr = p.get('acr') === ACR_WEAK ? ACR_WEAK : ACR_STRONG;
  const grant = new provider.Grant({ accountId: login, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  grant.addOIDCClaims(['pin', 'name']);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId: login, acr }, consent: { grantId } },
    { mergeWithLastSubmission: false });
}

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  provider = new Provider(issuer, {
    clients: [{
      client_id: 'dobush-test',
      client_secret: 'dobush-test-secret',
      // native + loopback: oidc-provider ignores the port of the redirect URI (RFC 8252 §7.3), so
      // every test server on its own port 0 can use this one client.
      application_type: 'native',
      redirect_uris: ['http://127.0.0.1/auth/callback'],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }, {
      // the same, but its ID tokens are HMAC-signed with the client secret (HS256): a relying
      // party that takes the algorithms from discovery accepts them (review 18-hardening L5)
      client_id: 'dobush-test-hs256',
      client_secret: 'dobush-test-secret-of-at-least-32-bytes',
      application_type: 'native',
      redirect_uris: ['http://127.0.0.1/auth/callback'],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'HS256',
    }],
    claims: { openid: ['sub'], profile: ['name'], pin: ['pin'] },
    scopes: ['openid', 'profile', 'pin'],
    conformIdTokenClaims: false,
    // HS256 enabled for the HS256 client above (and so advertised by discovery)
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'HS256'] },
    acrValues: [ACR_STRONG, ACR_WEAK],
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, i) => `/interaction/${i.uid}` },
    cookies: { keys: ['dobush-test-only-cookie-key'] },
    findAccount: (_ctx, id) => account(id),
    ttl: { AccessToken: 300, AuthorizationCode: 60, IdToken: 300, Interaction: 600, Session: 600, Grant: 600 },
  });
  console.log(`LISTENING ${issuer}`);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
