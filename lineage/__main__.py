from lineage.cli.app import main

main()
