// servers.env: the KEY=VALUE file sb-test-servers writes and Shared() reads. Values are single-
// quoted so that a shell can also `source` it (PG_DSN holds spaces).
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace sb::testing::internal {

using EnvFile = std::map<std::string, std::string>;

// Throws std::runtime_error naming the file if it cannot be read.
EnvFile ReadEnvFile(const std::filesystem::path& path);
// Writes atomically (temp file + rename), so a reader never sees half a file.
void WriteEnvFile(const std::filesystem::path& path, const EnvFile& values);

}  // namespace sb::testing::internal
