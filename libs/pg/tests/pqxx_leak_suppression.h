// Included by the test binaries that have the server kill their connections. libpqxx 6.4 leaks
// one PGresult (2264 bytes in 2 allocations) each time a connection breaks under it:
//   pqxx::connection c(dsn); pqxx::nontransaction(c).exec(
//       "SELECT pg_terminate_backend(pg_backend_pid())");   // then let c go
// leaks the same under ASan with no code of ours involved. LeakSanitizer would fail the
// SB_SANITIZE build on it; this suppresses exactly that library's leaks and nothing else.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
extern "C" const char* __lsan_default_suppressions() { return "leak:libpqxx-6.4.so\n"; }
#endif
