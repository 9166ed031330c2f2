#include "internal/env_file.h"

#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace sb::testing::internal {

EnvFile ReadEnvFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read servers file " + path.string());
  EnvFile values;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string value = line.substr(eq + 1);
    if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    values[line.substr(0, eq)] = value;
  }
  return values;
}

void WriteEnvFile(const std::filesystem::path& path, const EnvFile& values) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (const auto& [key, value] : values) {
      if (value.find('\'') != std::string::npos) {
        throw std::invalid_argument("servers file value for " + key + " holds a quote");
      }
      out << key << "='" << value << "'\n";
    }
    if (!out.flush()) throw std::runtime_error("cannot write " + tmp.string());
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace sb::testing::internal
