"""TRL's SFT script (trl/scripts/sft.py) with the PEFT config read from peft_config.json, for the
settings `trl sft`'s lora_* flags cannot express: prefix tuning, and LoRA on some layers only
(layers_to_transform). Everything else comes from sft.yaml, as with `trl sft --config sft.yaml`.

    python sft_peft.py --config sft.yaml
    accelerate launch --config_file accelerate/ddp.yaml sft_peft.py --config sft.yaml

LoRA Playground's export puts it next to sft.yaml; run it from the unzipped folder.
"""

import json

from datasets import load_dataset
from peft import get_peft_config
from trl import ModelConfig, ScriptArguments, SFTConfig, SFTTrainer, TrlParser


def main():
    parser = TrlParser((ScriptArguments, SFTConfig, ModelConfig))
    # As trl/scripts/sft.py: keys an older TRL does not know are left out, not fatal.
    script_args, training_args, model_args = parser.parse_args_and_config(fail_with_unknown_args=False)
    with open("peft_config.json") as f:
        peft_config = get_peft_config(json.load(f))
    dataset = load_dataset(script_args.dataset_name, name=script_args.dataset_config)
    trainer = SFTTrainer(
        model=model_args.model_name_or_path,
        args=training_args,
        train_dataset=dataset[script_args.dataset_train_split],
        eval_dataset=dataset[script_args.dataset_test_split] if training_args.eval_strategy != "no" else None,
        peft_config=peft_config,
    )
    trainer.train()
    trainer.save_model(training_args.output_dir)


if __name__ == "__main__":
    main()
