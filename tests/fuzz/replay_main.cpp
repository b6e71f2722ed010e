// session-replay: runs the session fuzz target's inputs (a corpus folder) through the real
// runtime again and again, printing the process's RSS after each round, without libFuzzer or
// sanitizers. Flat RSS means closed sessions are freed at once.
//   session-replay tests/fuzz/session_corpus [ROUNDS]
#include <dirent.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

long rss_kib() {
  std::ifstream statm{"/proc/self/statm"};
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * 4;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: session-replay CORPUS_DIR [ROUNDS]\n");
    return 2;
  }
  std::vector<std::string> inputs;
  if (DIR* dir = opendir(argv[1])) {
    while (auto* e = readdir(dir)) {
      if (e->d_name[0] == '.')
        continue;
      std::ifstream in{std::string{argv[1]} + "/" + e->d_name, std::ios::binary};
      inputs.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    closedir(dir);
  }
  int rounds = argc > 2 ? std::atoi(argv[2]) : 10;
  std::printf("%zu inputs, %d rounds of 100 passes\n", inputs.size(), rounds);
  for (int r = 0; r < rounds; ++r) {
    for (int pass = 0; pass < 100; ++pass)
      for (auto& in : inputs)
        LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(in.data()), in.size());
    std::printf("round %d: %zu sessions run, RSS %ld KiB\n", r + 1,
                static_cast<std::size_t>(r + 1) * 100 * inputs.size(), rss_kib());
    std::fflush(stdout);
  }
  std::_Exit(0); // the harness's runtime lives until the process ends, as under libFuzzer
}
