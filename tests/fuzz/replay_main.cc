// SPDX-License-Identifier: GPL-2.0-or-later
// main() for fuzz targets built without libFuzzer (gcc, or SIPSLEUTH_FUZZ off): feeds every file named
// on the command line, and every regular file under every directory named (recursively, in sorted
// order), to LLVMFuzzerTestOneInput once, each in a heap buffer of exactly its size so AddressSanitizer
// sees overreads as libFuzzer would. Fails when an argument does not exist or no input was found.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace fs = std::filesystem;

namespace {

bool collect(const fs::path& arg, std::vector<fs::path>& files, const char* self) {
    std::error_code ec;
    const fs::file_status st = fs::status(arg, ec);
    if (ec || !fs::exists(st)) {
        std::cerr << self << ": " << arg.string() << " does not exist\n";
        return false;
    }
    if (!fs::is_directory(st)) {
        files.push_back(arg);
        return true;
    }
    std::vector<fs::path> found;
    for (fs::recursive_directory_iterator it(arg, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_regular_file(ec)) found.push_back(it->path());
    if (ec) {
        std::cerr << self << ": cannot read " << arg.string() << ": " << ec.message() << "\n";
        return false;
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    const char* self = argc > 0 ? argv[0] : "replay";
    if (argc < 2) {
        std::cerr << "usage: " << self << " FILE_OR_DIR...\n";
        return 2;
    }
    std::vector<fs::path> files;
    for (int i = 1; i < argc; ++i)
        if (!collect(argv[i], files, self)) return 1;
    if (files.empty()) {
        std::cerr << self << ": no input found\n";
        return 1;
    }
    for (const fs::path& file : files) {
        std::ifstream in(file, std::ios::binary);
        const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (in.bad()) {
            std::cerr << self << ": cannot read " << file.string() << "\n";
            return 1;
        }
        std::cout << "replaying " << file.string() << " (" << bytes.size() << " bytes)" << std::endl;
        const auto copy = std::make_unique<std::uint8_t[]>(bytes.size());
        std::copy(bytes.begin(), bytes.end(), copy.get());
        LLVMFuzzerTestOneInput(copy.get(), bytes.size());
    }
    std::cout << "replayed " << files.size() << " inputs" << std::endl;
    return 0;
}
