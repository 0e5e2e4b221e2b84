/* streams.cc — C++ iostreams on the files of the current directory, for
 * bats/shim_programs.bats (run once locally and once in /dafs under the
 * shim; the outputs must match): reads lines.txt, writes reversed.txt and
 * appends to it, seeks in random.bin and copies 8 bytes to half.bin, and
 * opens a missing file.
 */
#include <fstream>
#include <iostream>
#include <string>
#include <vector>
int main()
{
	std::ifstream in("lines.txt");
	if (!in) { std::cerr << "cannot open lines.txt\n"; return 1; }
	std::vector<std::string> lines;
	for (std::string l; std::getline(in, l);) lines.push_back(l);
	std::ofstream out("reversed.txt");
	for (auto it = lines.rbegin(); it != lines.rend(); ++it) out << *it << '\n';
	out.close();
	std::ofstream app("reversed.txt", std::ios::app);
	app << "appended " << lines.size() << '\n';
	app.close();
	std::ifstream bin("random.bin", std::ios::binary);
	bin.seekg(0, std::ios::end);
	std::streamoff size = bin.tellg();
	bin.seekg(size / 2);
	char buf[8];
	bin.read(buf, sizeof buf);
	std::ofstream bout("half.bin", std::ios::binary | std::ios::trunc);
	bout.write(buf, bin.gcount());
	bout.close();
	std::ifstream back("reversed.txt");
	std::cout << size << ' ' << back.rdbuf();
	std::ifstream missing("nope");
	std::cout << "missing " << !missing << '\n';
	return 0;
}
