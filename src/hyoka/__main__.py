from hyoka.cli import main

main()
