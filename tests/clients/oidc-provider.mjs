// A real OpenID Connect provider (panva's oidc-provider) for the tests, on a loopback port.
//
// Usage: node provider.mjs CONFIG_JSON_FILE. The file names the port, the clients
// (client_id, client_secret, redirect_uris) and the people: login name -> claims (email,
// email_verified...). The provider's own development pages (devInteractions) ask for a login
// name and any password, then for consent (the clients are native, RFC 8252: loopback
// redirect URIs on any port, and the provider asks native clients' users every time).
// Prints "listening <issuer>" once it serves.
import { readFileSync } from "node:fs";
import Provider from "oidc-provider";

const settings = JSON.parse(readFileSync(process.argv[2], "utf8"));
const issuer = `http://127.0.0.1:${settings.port}`;

const configuration = {
  clients: settings.clients.map((client) => ({
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: "client_secret_basic",
    ...client,
  })),
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
  scopes: ["openid", "email", "profile"],
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  async findAccount(ctx, id) {
    const person = settings.people[id];
    if (!person) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...person }; } };
  },
  ttl: { Session: 600, Interaction: 600, Grant: 600, AccessToken: 600, AuthorizationCode: 60, IdToken: 600 },
};

const provider = new Provider(issuer, configuration);
// Quiet: the tests read the port line, not the library's development warnings.
provider.on("server_error", (ctx, error) => console.error("server_error", error));
provider.listen(settings.port, "127.0.0.1", () => console.log(`listening ${issuer}`));
