"""Authentication and authorization: credentials, the signed-in principal, and the check every route goes through."""
