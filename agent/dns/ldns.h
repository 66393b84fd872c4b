// ldns, included the one safe way: its common.h defines bool, true and false
// as macros in C++ unless stdbool.h came first, which breaks the standard
// library headers that follow. Include ldns only through this header.
#pragma once

#include <stdbool.h>

#include <ldns/ldns.h>
