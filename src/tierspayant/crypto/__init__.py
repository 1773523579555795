"""Field encryption (AES-256-GCM bound to table/column/row) and keyed blind indexes.

Pure Python over ``cryptography``: no Django import, so keys and ciphertexts can be
tested and rotated without the web stack. See docs/adr/0002-field-encryption.md.
"""
