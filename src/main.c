/* SPDX-License-Identifier: MulanPSL-2.0 */
int main(void)
{
	return 0;
}
