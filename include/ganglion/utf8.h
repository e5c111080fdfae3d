/* Strict UTF-8 validation, with the rules of Rust's str::from_utf8: no
 * overlong forms, no surrogates, nothing above U+10FFFF. */
#ifndef GANGLION_UTF8_H
#define GANGLION_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool gn_utf8_valid(const uint8_t *s, size_t len);

#endif
