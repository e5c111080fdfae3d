/* Internal: the BIP39 English word list. */
#ifndef GN_PROTOCOL_BIP39_ENGLISH_H
#define GN_PROTOCOL_BIP39_ENGLISH_H

extern const char *const gn_bip39_english[2048];

#endif
