// A local OpenID provider for the tests, configured like Pro Santé Connect (docs/security.md):
// panva's oidc-provider (OpenID Certified), authorization code + PKCE, client_secret_basic,
// scopes `openid scope_all`, PSC's userinfo claims (SubjectNameID = idNatPs...), acr `eidas1`.
//
// Started by tests/psc_provider.py with, in the environment:
//   PORT, ISSUER (http://127.0.0.1:PORT), CLIENT_ID, CLIENT_SECRET, REDIRECT_URIS (comma-separated)
// It prints one line `ready` on stdout once it listens.
//
// Sign-in page (no password: the tests play the CPS card / e-CPS app): GET /interaction/:uid shows
// a form; POST it with `login` (the idNatPs) and `acr` (eidas1 unless a test asks for less).
// Test switch: POST /__test/mode {"mode": null | "bad_signature" | "wrong_audience" | "expired"}
// makes the token endpoint serve an ID token re-signed with a second key (same kid), for
// another audience, or already expired.
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';
import { SignJWT, decodeJwt, exportJWK, generateKeyPair } from 'jose';

const { PORT, ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URIS } = process.env;

const KID = 'psc-test-key';
const real = await generateKeyPair('RS256', { extractable: true });
const rogue = await generateKeyPair('RS256', { extractable: true });
const realJwk = { ...(await exportJWK(real.privateKey)), kid: KID, alg: 'RS256', use: 'sig' };

// Synthetic professionals: the login typed on the sign-in page is the idNatPs ("8" + RPPS).
function claimsFor(idNatPs) {
  return {
    sub: idNatPs,
    SubjectNameID: idNatPs,
    preferred_username: idNatPs,
    given_name: 'Camille',
    family_name: 'Test',
    SubjectRefPro: { codeCivilite: 'M', exercices: [{ codeProfession: '28', codeCategorieProfessionnelle: 'C' }] },
    SubjectOrganization: 'Cabinet de test',
    SubjectRole: ['28^1.2.250.1.213.1.1.5.5'],
    SubjectTypeProfession: 'RPPS',
  };
}

const configuration = {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: REDIRECT_URIS.split(','),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  }],
  jwks: { keys: [realJwk] },
  cookies: { keys: [randomUUID()] },
  pkce: { required: () => true },
  acrValues: ['eidas1', 'eidas2', 'eidas3', 'eidas0'],
  scopes: ['openid', 'scope_all'],
  claims: {
    openid: ['sub'],
    acr: null,
    auth_time: null,
    scope_all: ['SubjectNameID', 'preferred_username', 'given_name', 'family_name', 'SubjectRefPro',
      'SubjectOrganization', 'SubjectRole', 'SubjectTypeProfession'],
  },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: async (ctx, id) => ({ accountId: id, claims: async () => claimsFor(id) }),
  ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 600, Grant: 600 },
};

const provider = new Provider(ISSUER, configuration);
let mode = null;

function readBody(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.on('data', (chunk) => { data += chunk; });
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

const page = (uid) => `<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Pro Santé Connect (test)</title></head><body><h1>Pro Santé Connect (fournisseur de test)</h1>
<form method="post" action="/interaction/${uid}/login">
<label>Identifiant national (idNatPs) <input name="login" autocomplete="off" required></label>
<label>Niveau (acr) <input name="acr" value="eidas1"></label>
<button type="submit">Valider avec ma carte CPS</button></form></body></html>`;

async function finishLogin(ctx, uid) {
  const form = new URLSearchParams(await readBody(ctx.req));
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.uid !== uid) ctx.throw(400, 'interaction mismatch');
  const accountId = form.get('login');
  const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  await provider.interactionFinished(ctx.req, ctx.res, {
    login: { accountId, acr: form.get('acr') || 'eidas1', amr: ['pwd'] },
    consent: { grantId },
  }, { mergeWithLastSubmission: false });
  ctx.respond = false;
}

async function reSign(idToken) {
  const payload = decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  let key = real.privateKey;
  if (mode === 'bad_signature') key = rogue.privateKey;
  if (mode === 'wrong_audience') payload.aud = 'un-autre-client';
  if (mode === 'expired') { payload.iat = now - 7200; payload.exp = now - 3600; payload.auth_time = now - 7200; }
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: KID }).sign(key);
}

provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (ctx.path === '/__test/mode' && ctx.method === 'POST') {
    mode = JSON.parse((await readBody(ctx.req)) || '{}').mode ?? null;
    ctx.body = { mode };
    return;
  }
  if (match && ctx.method === 'GET' && !match[2]) {
    ctx.type = 'html';
    ctx.body = page(match[1]);
    return;
  }
  if (match && ctx.method === 'POST' && match[2]) {
    await finishLogin(ctx, match[1]);
    return;
  }
  await next();
  if (ctx.path === '/token' && mode && ctx.body && ctx.body.id_token) {
    ctx.body = { ...ctx.body, id_token: await reSign(ctx.body.id_token) };
  }
});

provider.proxy = false;
createServer(provider.callback()).listen(Number(PORT), '127.0.0.1', () => {
  process.stdout.write('ready\n');
});
