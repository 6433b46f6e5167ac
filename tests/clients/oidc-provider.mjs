// A real OpenID Connect provider (panva's oidc-provider) for the tests, on a loopback port.
//
// Usage: node oidc-provider.mjs CONFIG_JSON_FILE. The file names the port and the issuers to
// serve on it, each under its own path ("" for the root, "/google", "/<tenant id>/v2.0"...):
// its clients (client_id, client_secret, redirect_uris, token_endpoint_auth_method), its
// people (login name -> claims: email, email_verified, tid...), which claims each scope
// releases, whether the ID token carries them (idTokenClaims, as Google, Microsoft and Apple
// do) and whether it has a UserInfo endpoint (Apple has none). "templates" serve a discovery
// document of one issuer under another path with its issuer rewritten, as Microsoft's
// multi-tenant "common" document says "https://login.microsoftonline.com/{tenantid}/v2.0".
//
// The provider's own development pages (devInteractions) ask for a login name and any
// password, then for consent (the clients are native, RFC 8252: loopback redirect URIs on any
// port, and the provider asks native clients' users every time).
// Prints "listening <origin>" once it serves.
import { readFileSync } from "node:fs";
import http from "node:http";
import Provider from "oidc-provider";

const settings = JSON.parse(readFileSync(process.argv[2], "utf8"));
const origin = `http://127.0.0.1:${settings.port}`;

function makeProvider(issuer) {
  const configuration = {
    clients: issuer.clients.map((client) => ({
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
      ...client,
    })),
    claims: issuer.claims ?? { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    scopes: ["openid", "email", "profile"],
    conformIdTokenClaims: !issuer.idTokenClaims,
    features: {
      devInteractions: { enabled: true },
      userinfo: { enabled: issuer.userinfo ?? true },
    },
    pkce: { required: () => true },
    async findAccount(ctx, id) {
      const person = issuer.people[id];
      if (!person) return undefined;
      return { accountId: id, async claims() { return { sub: id, ...person }; } };
    },
    ttl: { Session: 600, Interaction: 600, Grant: 600, AccessToken: 600, AuthorizationCode: 60, IdToken: 600 },
  };
  const provider = new Provider(origin + issuer.path, configuration);
  // Quiet: the tests read the port line, not the library's development warnings.
  provider.on("server_error", (ctx, error) => console.error("server_error", error));
  return provider;
}

// Longest path first, so "/x/v2.0" is not taken for "".
const mounts = settings.issuers
  .map((issuer) => ({ path: issuer.path, handler: makeProvider(issuer).callback() }))
  .sort((a, b) => b.path.length - a.path.length);
const templates = settings.templates ?? [];

async function serveTemplate(template, res) {
  const found = await fetch(`${origin}${template.of}/.well-known/openid-configuration`);
  const document = await found.json();
  document.issuer = origin + template.issuer;
  delete document.authorization_response_iss_parameter_supported;
  res.writeHead(200, { "Content-Type": "application/json" });
  res.end(JSON.stringify(document));
}

const server = http.createServer((req, res) => {
  const template = templates.find((t) => req.url === `${t.path}/.well-known/openid-configuration`);
  if (template) {
    serveTemplate(template, res).catch((error) => {
      res.writeHead(500);
      res.end(String(error));
    });
    return;
  }
  const mount = mounts.find((m) => m.path === "" || req.url === m.path || req.url.startsWith(`${m.path}/`) || req.url.startsWith(`${m.path}?`));
  if (!mount) {
    res.writeHead(404);
    res.end();
    return;
  }
  // oidc-provider finds its mount path from originalUrl minus url (as under express).
  req.originalUrl = req.url;
  req.url = req.url.slice(mount.path.length) || "/";
  mount.handler(req, res);
});
server.listen(settings.port, "127.0.0.1", () => console.log(`listening ${origin}`));
