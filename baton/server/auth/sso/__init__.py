"""Single sign-on with OpenID Connect: the authorization code flow with PKCE against the company's identity provider.

`provider` fetches and caches the provider's discovery document and keys and talks to its endpoints (through
authlib); `id_token` checks an ID token; `flow` seals the state, nonce and PKCE verifier of a sign-in in progress
into a short-lived cookie; `roles` turns groups into roles; `users` finds or makes the Baton user. The pages are in
`baton.webui.pages.sso`.
"""
