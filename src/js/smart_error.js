// The error class of smart-launch. Its `code` is stable (see the README's table); its
// message never contains a token, an authorization code, a verifier or a state value.
export class SmartError extends Error {
  constructor(code, message, status, oauthError, description, field) {
    super(message);
    this.name = "SmartError";
    this.code = code;
    if (status !== undefined) this.status = status;
    if (oauthError !== undefined) this.oauthError = oauthError;
    if (description !== undefined) this.description = description;
    if (field !== undefined) this.field = field;
  }
}
