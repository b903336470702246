# shellcheck shell=sh
# ACPI power-button check of the demo/test guest, sourced by /init
# (docs/guest.md); the host presses the button with QMP system_powerdown
# (tests/integration/test_powerdown_linux.py).
#   pwrbtn  the power button (PNP0C0C), its GED (ACPI0013) and the GED's
#           interrupt are there (printed on "SVPWRBTN devices ..." straight to
#           /dev/console), then "SVPWRBTN waiting" and up to sv.pwrwait
#           seconds (default 120) for the press: /bin/svpwrbtn, started by
#           init, powers the guest off and this check never returns.  If no
#           press comes, the check fails.
pwrwait=120
for arg in $(cat /proc/cmdline); do
	case $arg in
	sv.pwrwait=*) pwrwait=${arg#*=} ;;
	esac
done

check_pwrbtn() {
	btn=$(ls /sys/bus/acpi/devices 2>/dev/null | grep -c '^PNP0C0C:')
	ged=$(ls /sys/bus/acpi/devices 2>/dev/null | grep -c '^ACPI0013:')
	irq=$(awk '/ACPI:Ged/ {print $1}' /proc/interrupts | tr -d :)
	input=$(grep -c 'N: Name="Power Button"' /proc/bus/input/devices 2>/dev/null)
	watcher=$(pidof svpwrbtn)
	echo "SVPWRBTN devices button=$btn ged=$ged ged_irq=${irq:-none} input=$input" \
		"watcher=${watcher:-none}" >/dev/console
	[ "$btn" = 1 ] && [ "$ged" = 1 ] && [ -n "$irq" ] && [ -n "$watcher" ] || {
		echo "button=$btn ged=$ged ged_irq=${irq:-none} watcher=${watcher:-none}"
		return 1
	}
	echo "SVPWRBTN waiting" >/dev/console
	sleep "$pwrwait"
	echo "error=no-power-off-after-${pwrwait}s"
	return 1
}
