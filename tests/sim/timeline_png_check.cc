// timeline_png_check FILE.png [RRGGBB...]: exits 0 when the screenshot shows a
// drawn page, 1 when it looks blank, 2 when it is not a PNG it can read.
//
// "Drawn": not one colour (at least 3% of the pixels differ from the most
// common colour, and there are many distinct colours: text, bars, tints), and
// each RRGGBB given appears (within a small tolerance) on at least 100 pixels,
// so the bars of the page were painted, not only its text. Reads the 8-bit RGB
// and RGBA PNGs a browser's screenshot writes; zlib inflates, the filters are
// undone here.
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace {

uint32_t Be32(const unsigned char* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

int Fail(const std::string& why) {
  std::cerr << "timeline_png_check: " << why << "\n";
  return 2;
}

int Paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Fail("usage: timeline_png_check FILE.png [RRGGBB...]");
  std::ifstream in(argv[1], std::ios::binary);
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto* data = reinterpret_cast<const unsigned char*>(file.data());
  if (file.size() < 8 || std::memcmp(data, "\x89PNG\r\n\x1a\n", 8) != 0) return Fail("not a PNG");
  uint32_t width = 0, height = 0;
  int channels = 0;
  std::string idat;
  for (std::size_t at = 8; at + 12 <= file.size();) {
    const uint32_t length = Be32(data + at);
    if (length > file.size() - at - 12) return Fail("truncated chunk");
    const std::string type(file, at + 4, 4);
    const unsigned char* body = data + at + 8;
    if (type == "IHDR") {
      if (length != 13) return Fail("bad IHDR");
      width = Be32(body);
      height = Be32(body + 4);
      if (body[8] != 8 || body[12] != 0) return Fail("only 8-bit, non-interlaced PNGs");
      channels = body[9] == 2 ? 3 : body[9] == 6 ? 4 : 0;
      if (channels == 0) return Fail("only RGB and RGBA PNGs");
    } else if (type == "IDAT") {
      idat.append(reinterpret_cast<const char*>(body), length);
    }
    at += 12 + length;
  }
  if (width == 0 || height == 0 || width > 10000 || height > 10000) return Fail("bad size");
  const std::size_t stride = std::size_t{width} * channels;
  std::vector<unsigned char> raw((stride + 1) * height);
  uLongf raw_size = raw.size();
  if (uncompress(raw.data(), &raw_size, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) !=
          Z_OK ||
      raw_size != raw.size()) {
    return Fail("cannot inflate the image data");
  }
  std::vector<unsigned char> pixels(stride * height), zero(stride, 0);
  for (uint32_t y = 0; y < height; ++y) {
    const unsigned char filter = raw[y * (stride + 1)];
    const unsigned char* line = &raw[y * (stride + 1) + 1];
    unsigned char* out = &pixels[y * stride];
    const unsigned char* up = y ? &pixels[(y - 1) * stride] : zero.data();
    for (std::size_t i = 0; i < stride; ++i) {
      const int a = i >= static_cast<std::size_t>(channels) ? out[i - channels] : 0;
      const int b = up[i];
      const int c = i >= static_cast<std::size_t>(channels) ? up[i - channels] : 0;
      const int predictor = filter == 0   ? 0
                            : filter == 1 ? a
                            : filter == 2 ? b
                            : filter == 3 ? (a + b) / 2
                            : filter == 4 ? Paeth(a, b, c)
                                          : -1;
      if (predictor < 0) return Fail("bad filter type");
      out[i] = static_cast<unsigned char>(line[i] + predictor);
    }
  }
  std::map<uint32_t, uint64_t> colours;
  for (std::size_t p = 0; p < pixels.size(); p += channels) {
    ++colours[uint32_t{pixels[p]} << 16 | uint32_t{pixels[p + 1]} << 8 | pixels[p + 2]];
  }
  uint64_t dominant = 0;
  for (const auto& [colour, count] : colours) dominant = std::max(dominant, count);
  const uint64_t total = uint64_t{width} * height;
  const double other = 1.0 - static_cast<double>(dominant) / static_cast<double>(total);
  std::cout << width << "x" << height << ": " << colours.size() << " colours, " << other * 100
            << "% of the pixels not the most common colour\n";
  bool drawn = other >= 0.03 && colours.size() >= 50;
  for (int k = 2; k < argc; ++k) {
    const uint32_t want = static_cast<uint32_t>(std::strtoul(argv[k], nullptr, 16));
    uint64_t near = 0;
    for (const auto& [colour, count] : colours) {
      int distance = 0;
      for (int shift : {16, 8, 0}) {
        distance += std::abs(static_cast<int>((colour >> shift) & 0xff) -
                             static_cast<int>((want >> shift) & 0xff));
      }
      if (distance <= 24) near += count;
    }
    std::cout << "#" << argv[k] << ": " << near << " pixels\n";
    drawn = drawn && near >= 100;
  }
  if (!drawn) std::cout << "the screenshot looks blank or unpainted\n";
  return drawn ? 0 : 1;
}
