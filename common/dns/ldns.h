// Includes ldns for C++. ldns/common.h defines bool, true and false as
// macros unless <stdbool.h> was seen first, which breaks libstdc++ headers
// included after it (with clang in particular). Include ldns only via this.
#pragma once

#include <stdbool.h>  // NOLINT: must precede ldns, see above

#include <ldns/ldns.h>
