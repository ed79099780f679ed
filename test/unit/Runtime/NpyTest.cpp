//===- NpyTest.cpp - .npy reader/writer tests -----------------------------===//

#include "sparsenn/Support/Npy.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

using namespace sparsenn;

namespace {

std::vector<uint8_t> image(const std::string &dict,
                           const std::vector<uint8_t> &data, int major = 1) {
  std::vector<uint8_t> out = {
      0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
  size_t len = dict.size();
  out.push_back(static_cast<uint8_t>(len & 0xFF));
  out.push_back(static_cast<uint8_t>(len >> 8));
  if (major >= 2) {
    out.push_back(0);
    out.push_back(0);
  }
  out.insert(out.end(), dict.begin(), dict.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::string parseError(const std::vector<uint8_t> &bytes) {
  npy::Array a;
  std::string err;
  EXPECT_FALSE(npy::parse(bytes.data(), bytes.size(), a, err));
  EXPECT_FALSE(err.empty());
  EXPECT_EQ(err.find('\n'), std::string::npos); // one line
  return err;
}

TEST(Npy, RoundTripAllTypes) {
  for (npy::DType t : {npy::DType::I8, npy::DType::U8, npy::DType::I16,
                       npy::DType::U16, npy::DType::I32, npy::DType::I64,
                       npy::DType::F32, npy::DType::F64, npy::DType::Bool}) {
    for (std::vector<int64_t> shape :
         {std::vector<int64_t>{}, {0}, {5}, {2, 3}, {2, 1, 3, 2}}) {
      npy::Array a;
      a.dtype = t;
      a.shape = shape;
      a.data.resize(a.numElements() * npy::elementSize(t));
      for (size_t i = 0; i < a.data.size(); ++i)
        a.data[i] = static_cast<uint8_t>(i * 7 + 1);
      std::vector<uint8_t> bytes = npy::serialize(a);
      // The data starts on a 64-byte boundary (format.py convention).
      EXPECT_EQ((bytes.size() - a.data.size()) % 64, 0u);
      npy::Array b;
      std::string err;
      ASSERT_TRUE(npy::parse(bytes.data(), bytes.size(), b, err)) << err;
      EXPECT_EQ(b.dtype, t);
      EXPECT_EQ(b.shape, shape);
      EXPECT_EQ(b.data, a.data);
    }
  }
}

TEST(Npy, AcceptsNumpyStyleHeaders) {
  std::vector<uint8_t> data = {1, 0, 2, 0, 3, 0};
  for (const char *dict :
       {"{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }   \n",
        "{\"shape\": (3,), \"fortran_order\": False, \"descr\": \"<i2\"}\n",
        "{'descr':'<i2','fortran_order':False,'shape':(1, 3)}"}) {
    npy::Array a;
    std::string err;
    auto bytes = image(dict, data);
    ASSERT_TRUE(npy::parse(bytes.data(), bytes.size(), a, err)) << dict << err;
    EXPECT_EQ(a.dtype, npy::DType::I16);
    EXPECT_EQ(a.numElements(), 3u);
    EXPECT_EQ(a.as<int16_t>()[2], 3);
  }
  auto v2 = image("{'descr': '|i1', 'fortran_order': False, 'shape': (2,)}",
                  {1, 2}, 2);
  npy::Array a;
  std::string err;
  EXPECT_TRUE(npy::parse(v2.data(), v2.size(), a, err)) << err;
}

TEST(Npy, RejectsBadInput) {
  std::vector<uint8_t> d4 = {0, 0, 0, 0};
  const std::string ok =
      "{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }\n";
  EXPECT_NE(parseError({1, 2, 3}).find("too short"), std::string::npos);
  auto badMagic = image(ok, d4);
  badMagic[1] = 'X';
  EXPECT_NE(parseError(badMagic).find("magic"), std::string::npos);
  EXPECT_NE(parseError(image("{'descr': '<i2', 'fortran_order': True, "
                             "'shape': (2,), }",
                             d4))
                .find("Fortran"),
            std::string::npos);
  EXPECT_NE(parseError(image("{'descr': '>i2', 'fortran_order': False, "
                             "'shape': (2,), }",
                             d4))
                .find("big-endian"),
            std::string::npos);
  EXPECT_NE(parseError(image("{'descr': '<c8', 'fortran_order': False, "
                             "'shape': (2,), }",
                             d4))
                .find("unsupported dtype"),
            std::string::npos);
  EXPECT_NE(parseError(image(ok, {0, 0, 0})).find("truncated"),
            std::string::npos);
  EXPECT_NE(parseError(image(ok, {0, 0, 0, 0, 0})).find("trailing"),
            std::string::npos);
  parseError(image("{'descr': '<i2', 'shape': (2,), }", d4));
  parseError(
      image("{'descr': '<i2', 'fortran_order': False, 'shape': (2,", d4));
  parseError(
      image("{'descr': '<i2', 'fortran_order': False, 'shape': (-2,)}", d4));
  parseError(image("[1, 2]", d4));
  auto v9 = image(ok, d4);
  v9[6] = 9;
  EXPECT_NE(parseError(v9).find("version"), std::string::npos);
  // Header length pointing past the end of the file.
  auto longHeader = image(ok, d4);
  longHeader[8] = 0xFF;
  longHeader[9] = 0x7F;
  EXPECT_NE(parseError(longHeader).find("truncated"), std::string::npos);
  // Every truncation of a valid file is rejected without crashing.
  auto good = image(ok, d4);
  for (size_t len = 0; len < good.size(); ++len)
    parseError(std::vector<uint8_t>(good.begin(), good.begin() + len));
}

TEST(Npy, FileErrorsAreOneLine) {
  npy::Array a;
  std::string err;
  EXPECT_FALSE(npy::read("/nonexistent/dir/x.npy", a, err));
  EXPECT_NE(err.find("cannot open"), std::string::npos);
  EXPECT_FALSE(npy::write("/nonexistent/dir/x.npy", a, err));
  EXPECT_NE(err.find("cannot create"), std::string::npos);
}

} // namespace
