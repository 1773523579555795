// Reload the security page once a passkey is registered, so the list shows it.
// (A file, not an inline script: the CSP allows scripts from 'self' only.)
document.addEventListener("otp_webauthn.register_complete", () => {
  window.location.reload();
});
